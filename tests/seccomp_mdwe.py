"""systemd's MemoryDenyWriteExecute=yes rebuilt with libseccomp, to run code under it anywhere.

The filter is the one systemd installs (src/shared/seccomp-util.c,
seccomp_memory_deny_write_execute): mmap with PROT_WRITE|PROT_EXEC, mprotect/pkey_mprotect adding
PROT_EXEC and shmat with SHM_EXEC fail with EPERM. It is inherited by child processes
(Tesseract), as under systemd.

    python -m tests.seccomp_mdwe -c "code"     # run code under the filter
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import mmap
import sys

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_MASKED_EQ = 7
PR_SET_NO_NEW_PRIVS = 38
SHM_EXEC = 0o100000


def SCMP_ACT_ERRNO(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


class ScmpArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def install() -> None:
    """Install the filter on this process (and every child it starts)."""
    name = ctypes.util.find_library("seccomp")
    if name is None:
        raise OSError("libseccomp is not installed")
    lib = ctypes.CDLL(name, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(ScmpArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise OSError("seccomp_init failed")
    deny = SCMP_ACT_ERRNO(errno.EPERM)
    rules = [
        ("mmap", 2, mmap.PROT_WRITE | mmap.PROT_EXEC, mmap.PROT_WRITE | mmap.PROT_EXEC),
        ("mprotect", 2, mmap.PROT_EXEC, mmap.PROT_EXEC),
        ("pkey_mprotect", 2, mmap.PROT_EXEC, mmap.PROT_EXEC),
        ("shmat", 2, SHM_EXEC, SHM_EXEC),
    ]
    try:
        for syscall, arg, mask, value in rules:
            number = lib.seccomp_syscall_resolve_name(syscall.encode())
            if number < 0:
                continue  # not on this architecture
            cmp = ScmpArgCmp(arg, SCMP_CMP_MASKED_EQ, mask, value)
            if lib.seccomp_rule_add_array(ctx, deny, number, 1, ctypes.byref(cmp)) != 0:
                raise OSError(f"seccomp rule for {syscall} refused")
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS)")
        if lib.seccomp_load(ctx) != 0:
            raise OSError("seccomp_load failed")
    finally:
        lib.seccomp_release(ctx)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "-c":
        print(__doc__, file=sys.stderr)
        return 2
    install()
    exec(compile(argv[1], "<mdwe>", "exec"), {"__name__": "__mdwe__"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
