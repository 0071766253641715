"""Take the network away from the current process, for good (Linux seccomp-BPF, no dependency).

The SPARQL worker processes call :func:`deny_network` before they open the store.  After it,
the kernel answers every attempt to create a socket (``socket``), or to use an inherited one
(``connect``, ``bind``, ``listen``, ``accept``, ``accept4``, ``sendto``, ``sendmsg``,
``sendmmsg``), or to set up io_uring (which could issue those operations without the system
calls) with ``EACCES``; so is starting another program (``execve``), which a worker never needs.  This is enforced by the kernel for every thread of the process and every
process it starts, whatever code asks: Oxigraph's HTTP client (the SERVICE handler, written in
Rust, so closing Python's ``socket`` module would do nothing), glibc's DNS resolver, Python.
A filter cannot be removed once installed (``PR_SET_NO_NEW_PRIVS`` is set first, as the kernel
requires for unprivileged processes).  System calls of another ABI (x32, i386) kill the process.

The filter is a dozen classic-BPF instructions built here rather than through libseccomp's
bindings: the kernel's ``seccomp_data``/``sock_filter`` layout is a stable ABI, and this keeps the
worker free of a C library that a fresh machine might lack.  ``pyseccomp`` (ctypes over
libseccomp) would do the same; it is unmaintained since 2021.

Supported: x86_64 and aarch64 Linux.  Elsewhere :func:`deny_network` raises
:class:`SandboxUnavailable`; the caller decides (the SPARQL engine refuses to start workers
unless told the platform cannot sandbox and SERVICE refusal alone must do).
"""
from __future__ import annotations

import ctypes
import errno
import platform
import struct
import sys

__all__ = ["deny_network", "SandboxUnavailable", "supported"]


class SandboxUnavailable(OSError):
    """This platform (or kernel) cannot install the network filter."""


# linux/audit.h
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# unistd.h numbers of the calls refused, per architecture
_CALLS = {
    "x86_64": {"socket": 41, "connect": 42, "accept": 43, "sendto": 44, "sendmsg": 46, "bind": 49,
               "listen": 50, "accept4": 288, "sendmmsg": 307,
               "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
               "execve": 59, "execveat": 322},
    "aarch64": {"socket": 198, "bind": 200, "listen": 201, "accept": 202, "connect": 203, "sendto": 206,
                "sendmsg": 211, "accept4": 242, "sendmmsg": 269,
                "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                "execve": 221, "execveat": 281},
}
_SECCOMP_SYSCALL = {"x86_64": 317, "aarch64": 277}

# linux/filter.h, linux/seccomp.h
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_BPF_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
_X32_SYSCALL_BIT = 0x40000000


def _machine() -> str:
    m = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(m, m)


def supported() -> bool:
    return sys.platform.startswith("linux") and _machine() in _AUDIT_ARCH


def _program(arch: str) -> bytes:
    calls = sorted(_CALLS[arch].values())
    ins: list[tuple[int, int, int, int]] = []

    def op(code, jt, jf, k):
        ins.append((code, jt, jf, k))

    op(_BPF_LD_W_ABS, 0, 0, 4)                        # A = seccomp_data.arch
    op(_BPF_JEQ_K, 1, 0, _AUDIT_ARCH[arch])           # right ABI? skip the kill
    op(_BPF_RET_K, 0, 0, _RET_KILL_PROCESS)
    op(_BPF_LD_W_ABS, 0, 0, 0)                        # A = seccomp_data.nr
    if arch == "x86_64":
        op(_BPF_JGE_K, 0, 1, _X32_SYSCALL_BIT)        # x32 ABI call: kill
        op(_BPF_RET_K, 0, 0, _RET_KILL_PROCESS)
    n = len(calls)
    for i, nr in enumerate(calls):                     # match → jump to the ERRNO return
        op(_BPF_JEQ_K, n - i, 0, nr)
    op(_BPF_RET_K, 0, 0, _RET_ALLOW)
    op(_BPF_RET_K, 0, 0, _RET_ERRNO | errno.EACCES)
    return b"".join(struct.pack("=HBBI", *i) for i in ins)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def deny_network() -> None:
    """Install the filter in this process (all its threads).  Irreversible."""
    if not supported():
        raise SandboxUnavailable(f"no network sandbox for {sys.platform}/{platform.machine()}")
    arch = _machine()
    prog = _program(arch)
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = _SockFprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        e = ctypes.get_errno()
        raise SandboxUnavailable(e, f"prctl(PR_SET_NO_NEW_PRIVS): {errno.errorcode.get(e, e)}")
    libc.syscall.restype = ctypes.c_long
    rc = libc.syscall(ctypes.c_long(_SECCOMP_SYSCALL[arch]), ctypes.c_ulong(_SECCOMP_SET_MODE_FILTER),
                      ctypes.c_ulong(_SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(fprog))
    if rc != 0:
        e = ctypes.get_errno()
        raise SandboxUnavailable(e, f"seccomp(SET_MODE_FILTER): {errno.errorcode.get(e, e)}")
