#!/usr/bin/env python3
"""Peer loader for the benchmark: what a pydicom user writes to get a volume.

Reads every file of DIR, sorts along the slice normal, stacks pixel_array and
applies the rescale (float32), as a typical research script does.
"""
import os
import sys

import numpy as np
import pydicom

d = sys.argv[1]
dss = [pydicom.dcmread(os.path.join(d, f)) for f in sorted(os.listdir(d))]
iop = np.array(dss[0].ImageOrientationPatient, dtype=float)
normal = np.cross(iop[:3], iop[3:])
dss.sort(key=lambda ds: float(np.dot(normal, np.array(ds.ImagePositionPatient, dtype=float))))
vol = np.stack([ds.pixel_array for ds in dss]).astype(np.float32)
vol = vol * float(getattr(dss[0], "RescaleSlope", 1)) + float(getattr(dss[0], "RescaleIntercept", 0))
print(vol.shape, float(vol.min()), float(vol.max()))
