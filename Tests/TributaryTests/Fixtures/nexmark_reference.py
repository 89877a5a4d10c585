#!/usr/bin/env python3
"""An independent batch implementation of the Nexmark queries' semantics as
../shared/nexmark/README.md states them (the whole file at once: the final materialised
result). It wrote the expected figures in NexmarkSampleTests from nexmark-events-10k.jsonl:

    python3 nexmark_reference.py nexmark-events-10k.jsonl OUTDIR

writes OUTDIR/<query>.csv for q0-q5, q7-q9, q11 (rows sorted bytewise)."""
import json, sys, os, datetime
from collections import defaultdict

def ms(text):
    d = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return int(round(d.timestamp() * 1000))

def fmt(t):
    d = datetime.datetime.fromtimestamp(t / 1000, tz=datetime.timezone.utc)
    return d.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (t % 1000)

def s(v):
    return '""' if v == "" else v

persons, auctions, bids = [], [], []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event_type"] == 0:
        p = e["person"]; p["t"] = ms(p["dateTime"]); persons.append(p)
    elif e["event_type"] == 1:
        a = e["auction"]; a["t"] = ms(a["dateTime"]); a["x"] = ms(a["expires"]); auctions.append(a)
    else:
        b = e["bid"]; b["t"] = ms(b["dateTime"]); bids.append(b)

out = {}
out["q0"] = ["%d,%d,%d,%s,%s" % (b["auction"], b["bidder"], b["price"], fmt(b["t"]), s(b["extra"])) for b in bids]
def euros(p):
    v = p * 908
    return "%d.%03d" % (v // 1000, v % 1000)
out["q1"] = ["%d,%d,%s,%s,%s" % (b["auction"], b["bidder"], euros(b["price"]), fmt(b["t"]), s(b["extra"])) for b in bids]
out["q2"] = ["%d,%d" % (b["auction"], b["price"]) for b in bids if b["auction"] % 123 == 0]
byid = {p["id"]: p for p in persons}
out["q3"] = ["%s,%s,%s,%d" % (s(byid[a["seller"]]["name"]), s(byid[a["seller"]]["city"]), s(byid[a["seller"]]["state"]), a["id"])
             for a in auctions if a["category"] == 10 and a["seller"] in byid and byid[a["seller"]]["state"] in ("OR", "ID", "CA")]
bids_of = defaultdict(list)
for b in bids: bids_of[b["auction"]].append(b)
maxes = defaultdict(list)
winners = []
for a in auctions:
    q = [b for b in bids_of[a["id"]] if a["t"] <= b["t"] <= a["x"]]
    if not q: continue
    maxes[a["category"]].append(max(b["price"] for b in q))
    best = q[0]
    for b in q[1:]:
        if b["price"] > best["price"] or (b["price"] == best["price"] and b["t"] < best["t"]): best = b
    winners.append((a, best))
out["q4"] = ["%d,%d" % (c, sum(v) // len(v)) for c, v in maxes.items()]
out["q9"] = ["%d,%s,%s,%d,%d,%s,%s,%d,%d,%s,%d,%d,%d,%s,%s" % (a["id"], s(a["itemName"]), s(a["description"]), a["initialBid"], a["reserve"],
             fmt(a["t"]), fmt(a["x"]), a["seller"], a["category"], s(a["extra"]), b["auction"], b["bidder"], b["price"], fmt(b["t"]), s(b["extra"]))
             for a, b in winners]
counts = defaultdict(lambda: defaultdict(int))
for b in bids:
    last = b["t"] - b["t"] % 2000
    start = last
    while start > b["t"] - 10000:
        counts[start][b["auction"]] += 1
        start -= 2000
q5 = []
for start, c in counts.items():
    m = max(c.values())
    q5 += ["%d,%d" % (a, n) for a, n in c.items() if n == m]
out["q5"] = q5
wmax = defaultdict(lambda: -1)
for b in bids:
    w = b["t"] - b["t"] % 10000
    wmax[w] = max(wmax[w], b["price"])
q7 = []
for w, m in wmax.items():
    end = w + 10000
    q7 += ["%d,%d,%d,%s,%s" % (b["auction"], b["price"], b["bidder"], fmt(b["t"]), s(b["extra"])) for b in bids if b["price"] == m and end - 10000 <= b["t"] <= end]
out["q7"] = q7
pw = {(p["id"], p["t"] - p["t"] % 10000): p["name"] for p in persons}
aw = {(a["seller"], a["t"] - a["t"] % 10000) for a in auctions}
out["q8"] = ["%d,%s,%s" % (k[0], s(n), fmt(k[1])) for k, n in pw.items() if k in aw]
sess = defaultdict(list)
for b in sorted(bids, key=lambda b: b["t"]): sess[b["bidder"]].append(b["t"])
q11 = []
for bidder, ts in sess.items():
    start, last, n = ts[0], ts[0], 1
    for t in ts[1:]:
        if t - last <= 10000: last, n = t, n + 1
        else:
            q11.append("%d,%d,%s,%s" % (bidder, n, fmt(start), fmt(last + 10000))); start, last, n = t, t, 1
    q11.append("%d,%d,%s,%s" % (bidder, n, fmt(start), fmt(last + 10000)))
out["q11"] = q11
os.makedirs(sys.argv[2], exist_ok=True)
for q, rows in out.items():
    rows = sorted(rows, key=lambda r: r.encode())
    with open(os.path.join(sys.argv[2], q + ".csv"), "w") as f:
        f.write("".join(r + "\n" for r in rows))
    print(q, len(rows))
