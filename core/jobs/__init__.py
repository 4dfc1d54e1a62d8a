"""One background job system for every kind of long work: studio imports, re-embedding, video analysis."""
