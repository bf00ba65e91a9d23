"""A short CMPP 3.0 exchange with `numbind sms-sim`, written from the specification with the standard library
only, for a capture that Wireshark's CMPP dissector (3.0 layout) reads: CONNECT, SUBMIT with a report asked,
the status report DELIVER and its DELIVER_RESP, ACTIVE_TEST, TERMINATE.
Usage: cmpp_v3_exchange.py CMPP_HOST:PORT SP_CODE SECRET PHONE SERVICE_CODE"""

import hashlib
import socket
import struct
import sys
import time


def field(text, width):
    raw = text.encode("ascii")
    return raw + b"\0" * (width - len(raw))


def pdu(command_id, sequence, body=b""):
    return struct.pack(">III", 12 + len(body), command_id, sequence) + body


def receive(sock):
    def exactly(count):
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise SystemExit("the gateway closed the connection")
            data += chunk
        return data
    length, command_id, sequence = struct.unpack(">III", exactly(12))
    return command_id, sequence, exactly(length - 12)


def main():
    address, sp_code, secret, phone, service_code = sys.argv[1:6]
    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    stamp = time.strftime("%m%d%H%M%S", time.gmtime(time.time() + 8 * 3600))
    authenticator = hashlib.md5(sp_code.encode() + b"\0" * 9 + secret.encode() + stamp.encode()).digest()
    sock.sendall(pdu(0x01, 1, field(sp_code, 6) + authenticator + bytes([0x30]) + struct.pack(">I", int(stamp))))
    command_id, _, body = receive(sock)
    assert command_id == 0x80000001 and struct.unpack(">I", body[0:4])[0] == 0, body
    content = "你好，numbind".encode("utf-16-be")
    submit = (
        b"\0" * 8 + bytes([1, 1, 1, 0]) + field("NUMBIND", 10) + bytes([0]) + field("", 32) + bytes([0, 0, 0, 8])
        + field(sp_code, 6) + field("02", 2) + field("10", 6) + field("", 17) + field("", 17)
        + field(service_code, 21) + bytes([1]) + field(phone, 32) + bytes([0, len(content)]) + content
        + field("", 20)
    )
    sock.sendall(pdu(0x04, 2, submit))
    command_id, _, body = receive(sock)
    assert command_id == 0x80000004 and struct.unpack(">I", body[8:12])[0] == 0, body
    while True:
        command_id, sequence, body = receive(sock)
        if command_id == 0x05:
            sock.sendall(pdu(0x80000005, sequence, body[0:8] + struct.pack(">I", 0)))
            break
    sock.sendall(pdu(0x08, 3))
    command_id, _, _ = receive(sock)
    assert command_id == 0x80000008
    sock.sendall(pdu(0x02, 4))
    command_id, _, _ = receive(sock)
    assert command_id == 0x80000002
    sock.close()
    print("cmpp 3.0 exchange: connect, submit, report, active test, terminate")


if __name__ == "__main__":
    main()
