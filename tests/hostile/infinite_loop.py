while True:
    pass
# %%
after_loop = 42
