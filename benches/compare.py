#!/usr/bin/env python3
"""Side-by-side timing of the Weft interpreter against Lua 5.4 and CPython 3.

usage: python3 compare.py --weft PATH/TO/weft [--runs 5] [--dir DIR] [NAME ...]

Runs each benchmark program (NAME.wf, NAME.lua, NAME.py in this folder, or
in DIR) as a
whole process, alternating the engines, and reports the median wall time of
each and the ratios weft/lua and weft/python. Outputs are compared so a wrong
answer never counts as fast. Needs `lua5.4` on PATH (`apt-get install lua5.4`);
engines that are missing are skipped. Exit status 1 when Weft prints a wrong
answer or fails.
"""
import argparse, os, shutil, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return time.perf_counter() - t, p.returncode, " ".join(p.stdout.split())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default=HERE, help="folder of the programs (default: this one)")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    here = os.path.abspath(a.dir)
    names = a.names or sorted(f[:-3] for f in os.listdir(here) if f.endswith(".wf"))
    engines = {"weft": [os.path.abspath(a.weft), "run"]}
    if shutil.which("lua5.4"):
        engines["lua"] = ["lua5.4"]
    engines["python"] = [sys.executable]
    ext = {"weft": ".wf", "lua": ".lua", "python": ".py"}
    bad = False
    print(f"{'benchmark':<16}" + "".join(f"{e:>11}" for e in engines) + f"{'weft/lua':>10}{'weft/py':>10}")
    ratios = {"lua": [], "python": []}
    for name in names:
        times = {e: [] for e in engines}
        outs = {}
        for _ in range(a.runs):
            for e, cmd in engines.items():
                path = os.path.join(here, name + ext[e])
                if not os.path.exists(path):
                    continue
                dt, rc, out = run(cmd + [path])
                if rc != 0:
                    out = f"<exit {rc}>"
                times[e].append(dt)
                outs[e] = out
        med = {e: statistics.median(v) for e, v in times.items() if v}
        ref = outs.get("python") or outs.get("lua")
        wrong = ref is not None and outs.get("weft") != ref
        bad |= wrong
        row = f"{name:<16}" + "".join(f"{med[e]*1000:>9.0f}ms" if e in med else f"{'-':>11}" for e in engines)
        for other, col in (("lua", 10), ("python", 10)):
            if other in med and "weft" in med and not wrong:
                r = med["weft"] / med[other]
                ratios[other].append(r)
                row += f"{r:>{col}.2f}"
            else:
                row += f"{'-':>{col}}"
        if wrong:
            row += f"   WRONG: weft printed {outs.get('weft')!r}, expected {ref!r}"
        print(row)
    for other, rs in ratios.items():
        if rs:
            gm = statistics.geometric_mean(rs)
            print(f"geometric mean weft/{other}: {gm:.2f}")
    sys.exit(1 if bad else 0)


main()
