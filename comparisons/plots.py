"""placeholder"""


def write_summary(frames, out, large=False):
    return []
