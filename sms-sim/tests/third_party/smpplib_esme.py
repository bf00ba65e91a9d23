"""A stock python-smpplib ESME against numbind's SMS centre, as a new user would drive it.

Usage: smpplib_esme.py SMPP_HOST SMPP_PORT HTTP_URL SYSTEM_ID PASSWORD SHORT_CODE PHONE

Checks, failing with a message and exit status 1 on the first miss:
- a long Chinese message split with UDH and one split with SAR TLVs: one submit_sm_resp ID per part, one
  delivery receipt per part naming that ID, and query_sm answers each ID as delivered;
- an MO from a phone arrives as a deliver_sm that stock smpplib parses (it raises on a TLV it does not know);
- a bind with interface_version 0x33 is accepted and gets its MO.
Prints one JSON line with what it saw.
"""

import json
import sys
import time
import urllib.request

import smpplib.client
import smpplib.consts
import smpplib.gsm

DEADLINE_SECONDS = 30


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def phone_sends(http_url, phone, short_code, text):
    body = json.dumps({"to": short_code, "text": text}).encode()
    request = urllib.request.Request(
        f"{http_url}/v1/phones/{phone}/messages", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 202:
            fail(f"phone send answered {response.status}")


class Observer:
    """Collects what the SMS centre sends back."""

    def __init__(self):
        self.part_ids = []
        self.receipts = {}
        self.mobile_originated = []
        self.query_states = {}

    def sent(self, pdu):
        if pdu.status != 0:
            fail(f"submit_sm refused with status {pdu.status:#x}")
        self.part_ids.append(pdu.message_id.decode())

    def received(self, pdu):
        if pdu.esm_class & 0x04:
            self.receipts[pdu.receipted_message_id.decode().rstrip("\0")] = (pdu.message_state, pdu.short_message)
        else:
            self.mobile_originated.append(pdu.short_message)

    def queried(self, pdu):
        self.query_states[pdu.message_id.decode()] = pdu.message_state


def read_until(client, done, what):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not done():
        if time.monotonic() > deadline:
            fail(f"timed out waiting for {what}")
        client.read_once()


def submit_split(client, phone, short_code, text, use_udhi):
    parts, encoding, esm_class = smpplib.gsm.make_parts(text, use_udhi=use_udhi)
    reference = 0x2A
    for number, part in enumerate(parts, start=1):
        sar = {} if use_udhi else {
            "sar_msg_ref_num": reference, "sar_total_segments": len(parts), "sar_segment_seqnum": number
        }
        client.send_message(
            source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr=short_code,
            dest_addr_ton=smpplib.consts.SMPP_TON_INTL, destination_addr=phone,
            short_message=part, data_coding=encoding, esm_class=esm_class,
            registered_delivery=True, **sar,
        )
    return len(parts)


def check_parts(client, observer, phone, short_code):
    text = "您的机顶盒已绑定本号码，回复 UNBIND 可解除。请妥善保管您的机顶盒与遥控器，如有疑问请致电客服。" * 2
    expected = submit_split(client, phone, short_code, text, use_udhi=True)
    expected += submit_split(client, phone, short_code, text, use_udhi=False)
    if expected < 4:
        fail(f"the text was meant to need several parts each way, got {expected} in all")
    read_until(client, lambda: len(observer.part_ids) == expected and len(observer.receipts) == expected,
               "one submit_sm_resp and one receipt per part")
    if len(set(observer.part_ids)) != expected:
        fail(f"part IDs are not distinct: {observer.part_ids}")
    if set(observer.receipts) != set(observer.part_ids):
        fail(f"receipts {sorted(observer.receipts)} do not name the parts {sorted(observer.part_ids)}")
    for message_id, (state, receipt_text) in observer.receipts.items():
        if state != smpplib.consts.SMPP_MESSAGE_STATE_DELIVERED or b"stat:DELIVRD" not in receipt_text:
            fail(f"receipt for {message_id}: state {state}, text {receipt_text!r}")
    for message_id in observer.part_ids:
        client.query_message(message_id=message_id, source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                             source_addr=short_code)
    read_until(client, lambda: len(observer.query_states) == expected, "every query_sm_resp")
    if set(observer.query_states.values()) != {smpplib.consts.SMPP_MESSAGE_STATE_DELIVERED}:
        fail(f"query_sm states: {observer.query_states}")
    return expected


def bound_client(host, port, system_id, password, observer, mode, **bind):
    client = smpplib.client.Client(host, port, timeout=DEADLINE_SECONDS)
    client.set_message_sent_handler(observer.sent)
    client.set_message_received_handler(observer.received)
    client.set_query_resp_handler(observer.queried)
    client.connect()
    getattr(client, mode)(system_id=system_id, password=password, **bind)
    return client


def main():
    host, port, http_url, system_id, password, short_code, phone = sys.argv[1:8]
    observer = Observer()
    client = bound_client(host, int(port), system_id, password, observer, "bind_transceiver")
    parts = check_parts(client, observer, phone, short_code)
    phone_sends(http_url, phone, short_code, "BIND BCDFGHJK")
    read_until(client, lambda: len(observer.mobile_originated) == 1, "the MO on the 3.4 session")
    client.unbind()
    client.disconnect()

    legacy = Observer()
    client = bound_client(host, int(port), system_id, password, legacy, "bind_receiver", interface_version=0x33)
    phone_sends(http_url, phone, short_code, "BIND CDFGHJKL")
    read_until(client, lambda: len(legacy.mobile_originated) == 1, "the MO on the 3.3 session")
    client.unbind()
    client.disconnect()
    mobile_originated = [text.decode() for text in observer.mobile_originated + legacy.mobile_originated]
    print(json.dumps({"parts": parts, "mobile_originated": mobile_originated}))


if __name__ == "__main__":
    main()
