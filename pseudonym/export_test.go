package pseudonym

// SmallBatches makes the pipeline cut files into batches of at most n bytes
// and n/64 rows, so that small test files cross many batch boundaries.
func SmallBatches(t interface{ Cleanup(func()) }, n int) {
	b, o, r, c := batchBytes, batchOut, batchRows, readChunk
	batchBytes, batchOut, batchRows, readChunk = n, 2*n, max(n/64, 1), max(n/4, 1)
	t.Cleanup(func() { batchBytes, batchOut, batchRows, readChunk = b, o, r, c })
}
