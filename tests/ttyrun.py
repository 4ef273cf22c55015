#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal, as an interactive shell would, for
the console checks of tests/run-all.sh.

  tests/ttyrun.py [--wait TEXT] [--send BYTES] [--signal NAME] [--timeout S]
                  [--out FILE] -- CMD...

CMD gets the terminal as its stdin, stdout, stderr and controlling terminal,
in the foreground. Once TEXT appears in its output (at once without --wait),
BYTES are typed (Python string escapes: '\\x01x' is Ctrl-A x) or the signal
NAME (TERM, HUP, ...) is sent to it. Then it waits for CMD to end and prints
two lines:

  status N            or   signal NAME
  tty same            or   tty changed: BEFORE -> AFTER

the second comparing `stty -g` of the terminal before CMD started and after
it ended. CMD's output goes to FILE. Exit status 0; 1 if CMD did not end
within S seconds (it is killed), or TEXT never came; 2 for a usage error.
"""
import argparse
import codecs
import fcntl
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time


def stty_g(fd):
    return subprocess.run(["stty", "-g"], stdin=fd, capture_output=True,
                          text=True, check=False).stdout.strip()


def take_terminal():
    """In the child, after setsid(): the terminal on fd 0 becomes its
    controlling terminal, with its process group in the foreground."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1])
    ap.add_argument("--wait")
    ap.add_argument("--send")
    ap.add_argument("--signal")
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--out")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.print_usage(sys.stderr)
        return 2

    master, slave = pty.openpty()
    before = stty_g(slave)
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True, preexec_fn=take_terminal)
    out = bytearray()
    acted = False
    deadline = time.monotonic() + a.timeout

    def act():
        if a.send is not None:
            os.write(master, codecs.decode(a.send, "unicode_escape").encode("latin-1"))
        if a.signal:
            proc.send_signal(getattr(signal, "SIG" + a.signal))

    def read_some(wait):
        if select.select([master], [], [], wait)[0]:
            try:
                data = os.read(master, 4096)
            except OSError:
                return False
            out.extend(data)
            return bool(data)
        return False

    timed_out = False
    while proc.poll() is None:
        if not acted and (a.wait is None or a.wait.encode() in out):
            act()
            acted = True
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            timed_out = True
            break
        read_some(0.05)
    while read_some(0.1):
        pass
    after = stty_g(slave)
    os.close(slave)
    os.close(master)
    if a.out:
        with open(a.out, "wb") as f:
            f.write(out)

    rc = proc.returncode
    print("signal " + signal.Signals(-rc).name[3:] if rc < 0 else "status %d" % rc)
    print("tty same" if before == after else "tty changed: %s -> %s" % (before, after))
    if timed_out:
        print("ttyrun: timed out after %gs" % a.timeout, file=sys.stderr)
    if not acted:
        print("ttyrun: never saw %r" % a.wait, file=sys.stderr)
    return 1 if timed_out or not acted else 0


if __name__ == "__main__":
    sys.exit(main())
