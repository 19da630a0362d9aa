# Replaces the kernel's message building so that every message it sends lacks a
# `msg_id`; without a guard the grader died on KeyError: 'msg_id' in jupyter_client.
ip = get_ipython()  # noqa: F821  (defined in an IPython kernel)
session = ip.kernel.session
original = session.msg


def without_id(*args, **kwargs):
    message = original(*args, **kwargs)
    message["header"].pop("msg_id", None)
    return message


session.msg = without_id
# %%
after = 1
