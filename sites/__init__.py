"""Pure domain of the historical pollution site register: records, rules and scoring, no I/O frameworks."""
