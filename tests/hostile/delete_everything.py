import shutil

for victim in ("__ORIGINAL__", "__OTHER__"):
    shutil.rmtree(victim, ignore_errors=True)
