with open("huge.bin", "wb") as handle:
    handle.write(b"\0" * (8 * 1024 * 1024))
