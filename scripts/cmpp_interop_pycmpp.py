"""A service provider nobody here wrote: the PyPI client pycmpp (CMPP 2.0) connects to `numbind sms-sim`,
authenticates, submits a Chinese message, and the message must arrive intact on the phone (the SMS centre's
phone API). Usage: cmpp_interop_pycmpp.py CMPP_HOST:PORT HTTP_URL SP_CODE SECRET PHONE"""

import json
import sys
import urllib.request

from pycmpp import Cmpp
from pycmpp.response import ConnectResponseInstance, SubmitResponseInstance

TEXT = "绑定成功：您的机顶盒已与本号码绑定，回复TD退订。"


def receive(client):
    """One whole PDU, read the way pycmpp's own loop reads it (length prefix, then the rest)."""
    header = b""
    while len(header) < 12:
        chunk = client.so.recv(12 - len(header))
        if not chunk:
            raise SystemExit("the gateway closed the connection")
        header += chunk
    length = int.from_bytes(header[0:4], "big")
    body = b""
    while len(body) < length - 12:
        body += client.so.recv(length - 12 - len(body))
    return int.from_bytes(header[4:8], "big"), header + body


def next_of(client, command_id):
    while True:
        received, message = receive(client)
        if received == command_id:
            return message
        if received == 0x00000008:  # the gateway's ACTIVE_TEST: answer it as pycmpp's handler does
            from pycmpp.handlers import CmppActiveTestReqHandler
            CmppActiveTestReqHandler(client, message)()


def main():
    address, http_url, sp_code, secret, phone = sys.argv[1:6]
    host, port = address.rsplit(":", 1)
    client = Cmpp(host=host, port=int(port), sp_id=sp_code, sp_secret=secret, src_id="", client_heartbeat=False)
    client.connect()
    client.auth()
    connect_resp = ConnectResponseInstance()
    connect_resp.resolve(next_of(client, 0x80000001))
    assert connect_resp.status == 0, f"CONNECT refused with status {connect_resp.status}"
    client.submit(TEXT, [phone])
    submit_resp = SubmitResponseInstance()
    submit_resp.resolve(next_of(client, 0x80000004))
    assert submit_resp.status == 0, f"SUBMIT refused with result {submit_resp.status}"
    client.terminate()
    next_of(client, 0x80000002)
    client.close()
    with urllib.request.urlopen(f"{http_url}/v1/phones/{phone}/inbox", timeout=10) as response:
        inbox = json.load(response)
    texts = [message["text"] for message in inbox["messages"]]
    assert texts == [TEXT], f"the phone's inbox holds {texts!r}"
    with urllib.request.urlopen(f"{http_url}/v1/messages/{submit_resp.msg_id}", timeout=10) as response:
        status = json.load(response)
    assert status["direction"] == "mt", status
    print(f"pycmpp: connected, submitted msg_id {submit_resp.msg_id}, the phone received the text intact")


if __name__ == "__main__":
    main()
