#!/usr/bin/env python3
"""Peer loader for the benchmark: SimpleITK's ImageSeriesReader (GDCM inside)."""
import sys

import SimpleITK as sitk

reader = sitk.ImageSeriesReader()
reader.SetFileNames(reader.GetGDCMSeriesFileNames(sys.argv[1]))
image = reader.Execute()
print(image.GetSize())
