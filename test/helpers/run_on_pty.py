# Run a command with some of its standard streams on a pseudo-terminal, type into it when
# given prompts appear, and print one JSON object: exit code, what the terminal showed, and
# what went to the streams that were pipes. Driven by test/helpers/pty.ts.
#
# argv[1]: JSON {"argv": [...], "tty": ["stdin", "stderr", ...], "script": [[wait_for, send], ...]}
import json, os, pty, select, subprocess, sys, time

spec = json.loads(sys.argv[1])
master, slave = pty.openpty()
os.set_blocking(master, False)
on_tty = set(spec["tty"])
proc = subprocess.Popen(
    spec["argv"],
    stdin=slave if "stdin" in on_tty else subprocess.DEVNULL,
    stdout=slave if "stdout" in on_tty else subprocess.PIPE,
    stderr=slave if "stderr" in on_tty else subprocess.PIPE,
    env={**os.environ, **spec.get("env", {})},
    cwd=spec.get("cwd"),
    start_new_session=True,
)
os.close(slave)
script = list(spec.get("script", []))
tty = b""
matched_upto = 0
piped = {"stdout": b"", "stderr": b""}
pipes = {proc.stdout.fileno(): "stdout"} if proc.stdout else {}
if proc.stderr:
    pipes[proc.stderr.fileno()] = "stderr"
deadline = time.time() + spec.get("timeout", 60)
open_fds = [master, *pipes]
while open_fds and time.time() < deadline:
    ready, _, _ = select.select(open_fds, [], [], 0.2)
    for fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        if not data:
            open_fds.remove(fd)
            continue
        if fd == master:
            tty += data
        else:
            piped[pipes[fd]] += data
    while script and script[0][0].encode() in tty[matched_upto:]:
        wait_for, send = script.pop(0)
        matched_upto = tty.index(wait_for.encode(), matched_upto) + len(wait_for)
        os.write(master, send.encode())
    if proc.poll() is not None and master in open_fds and not ready:
        open_fds.remove(master)
if proc.poll() is None:
    proc.kill()
code = proc.wait()
print(json.dumps({"code": code, "tty": tty.decode("utf8", "replace"), "stdout": piped["stdout"].decode("utf8", "replace"), "stderr": piped["stderr"].decode("utf8", "replace"), "unsent": script}))
