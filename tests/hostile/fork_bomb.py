import os
import signal
import time

children = []
refused = None
for _ in range(400):
    try:
        pid = os.fork()
    except OSError as err:
        refused = err.errno
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    children.append(pid)
forked = len(children)
print("forked", forked, "refused", refused)
# %%
for pid in children:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
