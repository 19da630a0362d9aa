import os

os._exit(0)
# %%
never = 1
