//! Row-wise softmax on [-128, 128]: approximate max, domain extension, exp, inverse.
