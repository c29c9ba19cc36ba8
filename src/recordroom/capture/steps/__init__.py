"""The capture pipeline's steps, each a small function with a typed result; the runner
(capture.pipeline) puts them in order and owns progress, errors and resume."""
