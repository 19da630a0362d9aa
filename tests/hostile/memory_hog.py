hog = bytearray(64 * 1024**3)
# %%
after_memory = 1
