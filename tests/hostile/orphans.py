import subprocess

# Detached, in their own sessions: they try to outlive the kernel.
for _ in range(3):
    subprocess.Popen(["sleep", "600", "__TOKEN__"], start_new_session=True)
print("spawned")
