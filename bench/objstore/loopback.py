"""Loopback TCP bandwidth: a sender process pushes SIZE bytes (default 2 GiB) over one TCP
connection on 127.0.0.1 to a receiver, 1 MiB at a time; prints the bytes and the receiver's
seconds from accept to end of stream. usage: python3 loopback.py [SIZE]"""
import os
import socket
import sys
import time

CHUNK = 1 << 20


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 2 << 30
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    pid = os.fork()
    if pid == 0:  # sender
        srv.close()
        s = socket.create_connection(("127.0.0.1", port))
        buf = memoryview(os.urandom(CHUNK))
        left = size
        while left > 0:
            n = min(left, CHUNK)
            s.sendall(buf[:n])
            left -= n
        s.close()
        os._exit(0)
    conn, _ = srv.accept()
    start = time.monotonic()
    buf = bytearray(CHUNK)
    got = 0
    while True:
        n = conn.recv_into(buf)
        if n == 0:
            break
        got += n
    secs = time.monotonic() - start
    conn.close()
    os.waitpid(pid, 0)
    if got != size:
        sys.exit(f"loopback: received {got} bytes of {size}")
    print(got, f"{secs:.6f}")


if __name__ == "__main__":
    main()
