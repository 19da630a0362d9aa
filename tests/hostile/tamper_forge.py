# Sends a forged, correctly signed status message on the kernel's own IOPub socket,
# with a header that has no `msg_id`.
import json

kernel = get_ipython().kernel  # noqa: F821  (defined in an IPython kernel)
session = kernel.session
header = {"msg_type": "status", "session": session.session}
frames = [json.dumps(part).encode() for part in (header, {}, {}, {"execution_state": "idle"})]
kernel.iopub_socket.send_multipart(
    [b"kernel.forged.status", b"<IDS|MSG>", session.sign(frames), *frames]
)
# %%
after = 1
