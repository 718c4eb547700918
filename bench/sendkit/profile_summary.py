"""Summarise py-spy's collapsed stacks (`--format raw --threads --idle`): per thread, the share
of samples in each of the functions that matter for the send, and the top leaf frames.

    python -m bench.sendkit.profile_summary var/bench/profile-100000.txt
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict

FRAME = re.compile(r"^(.*?) \((.*?):\d+\)$")
# (label, a frame's function name as py-spy prints it); the first match from the leaf wins.
WATCHED = [
    ("mark: UPDATE (marks)", "mark_sent"),
    ("claim / rows / close / heartbeat", "claim"),
    ("claim / rows / close / heartbeat", "due_rows"),
    ("claim / rows / close / heartbeat", "close"),
    ("claim / rows / close / heartbeat", "renew"),
    ("build the message bytes", "SMTPMessages.outgoing"),
    ("smtplib: send (sendmail)", "SMTP.sendmail"),
    ("wait for work / a permit", "SenderPool._may_send"),
    ("wait for work / a permit", "SimpleQueue.get"),
    ("lane: wait for outcomes", "SenderPool.results"),
    ("donors", "active_recurring_donor_emails"),
    ("render", "render_issue"),
]


def label_for(frames: list[str]) -> str:
    names = [m.group(1) if (m := FRAME.match(f)) else f for f in frames]
    for name in reversed(names):
        for label, wanted in WATCHED:
            if name == wanted or name.endswith("." + wanted):
                return label
    return "other"


def main(path: str) -> None:
    by_thread: dict[str, Counter[str]] = defaultdict(Counter)
    leaves: Counter[str] = Counter()
    with open(path, encoding="utf-8") as lines:
        samples = list(lines)
    for line in samples:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        frames = stack.split(";")
        thread = frames[0].split(": ", 1)[-1]
        thread = re.sub(r"-\d+$", "-N", thread)
        by_thread[thread][label_for(frames[1:])] += int(count)
        leaves[frames[-1]] += int(count)
    for thread, counts in sorted(by_thread.items()):
        total = sum(counts.values())
        print(f"{thread}: {total} samples")
        for label, n in counts.most_common():
            print(f"  {100 * n / total:5.1f}%  {label}")
    total = sum(leaves.values())
    print("top leaf frames (all threads):")
    for frame, n in leaves.most_common(15):
        print(f"  {100 * n / total:5.1f}%  {frame[:110]}")


if __name__ == "__main__":
    main(sys.argv[1])
