import sys

sys.exit(0)
# %%
survived = 1
