"""MovieLens data: releases, download and cache, readers, filters, splits, synthetic data."""
