"""The seed baseline for `npm run bench`: times shared/bench/seed_windowing.py's own functions
(Debian python3-numpy + python3-pydicom) on the files the Node side uses, in one process.

  /usr/bin/python3 scripts/bench/seed.py <seed_windowing.py dir>  < request.json  > result.json

request: {"files": [...], "loop_files": [...], "window_files": [...], "strategies": [...],
          "reps": 3, "out": "<dir for np.save>"}
result : {"decode": {"slices", "seconds": [..], "cpu": [..]}, "window": {strategy: {"slices", "seconds": [..]}},
          "loop": {"slices", "seconds": [..]}, "versions": {...}}
"""
import json, os, sys, time, warnings
warnings.filterwarnings('ignore')
sys.path.insert(0, sys.argv[1])
import numpy as np
import pydicom
import seed_windowing as seed

req = json.load(sys.stdin)
reps = int(req.get('reps', 3))
res = {'versions': {'python': sys.version.split()[0], 'numpy': np.__version__, 'pydicom': pydicom.__version__}}

# Decode alone: pydicom read + pixel_array (what every seed strategy starts from).
times, cpu = [], []
for _ in range(reps):
    t0, c0 = time.perf_counter(), time.process_time()
    for p in req['files']:
        pydicom.dcmread(p).pixel_array
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
res['decode'] = {'slices': len(req['files']), 'seconds': times, 'cpu': cpu}

# Windowing alone, per strategy: datasets decoded beforehand (pydicom caches pixel_array).
dss = [pydicom.dcmread(p) for p in req['window_files']]
for d in dss:
    d.pixel_array
res['window'] = {}
for name in req['strategies']:
    fn = seed.STRATEGIES[name]
    times, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        for d in dss:
            fn(d)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    res['window'][name] = {'slices': len(dss), 'seconds': times, 'cpu': cpu}

# The seed's whole loop: read, sigmoid-ensemble, uint8, np.save.
os.makedirs(req['out'], exist_ok=True)
times, cpu = [], []
for _ in range(int(req.get('loop_reps', reps))):
    t0, c0 = time.perf_counter(), time.process_time()
    for i, p in enumerate(req['loop_files']):
        x = seed.sigmoid_ensemble_window(pydicom.dcmread(p))
        np.save(os.path.join(req['out'], f'{i}.npy'), np.rint(x * 255).astype(np.uint8))
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
res['loop'] = {'slices': len(req['loop_files']), 'seconds': times, 'cpu': cpu}
json.dump(res, sys.stdout)
