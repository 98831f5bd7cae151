"""The staff web console: cases, clocks and every case operation in the browser (Dutch first)."""
