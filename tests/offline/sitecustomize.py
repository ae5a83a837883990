"""Cuts a Python process off the network, for the tests that run the README's commands offline.

Python imports ``sitecustomize`` at start-up from the first folder on ``sys.path`` that holds one, so
putting this folder first on ``PYTHONPATH`` applies it to a command and to every Python it starts
(the book's notebook kernels included). Name lookups and connections to any host but this machine's
own loopback fail the way they do on a machine without a network: scikit-learn's download, a
Hugging Face call home, anything. Local sockets (kernels talk to the build over 127.0.0.1) still work.
"""
import errno
import ipaddress
import socket

MESSAGE = "network is unreachable (cut off by tests/offline/sitecustomize.py)"


def _local(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).split("%")[0]
    if host in ("", "localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_sendto = socket.socket.sendto


def getaddrinfo(host, *args, **kwargs):
    if not _local(host):
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: {MESSAGE}")
    return _getaddrinfo(host, *args, **kwargs)


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
        raise OSError(errno.ENETUNREACH, f"{address[0]}: {MESSAGE}")


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


def sendto(self, data, *args):
    _check(self, args[-1])
    return _sendto(self, data, *args)


socket.getaddrinfo = getaddrinfo
socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.socket.sendto = sendto
socket.gethostbyname = lambda host: getaddrinfo(host, None)[0][4][0]
