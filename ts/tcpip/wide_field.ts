// The starting value of a field that will hold numbers a small integer cannot: sequence
// numbers and other uint32s (half of them are 2^31 or more), times in ms, byte counts that
// pass 2^31. V8 fixes a field's representation by its first value; a field that starts as a
// small integer changes to a double at its first big value, which deprecates the object's
// shape and deoptimizes every function compiled against it — on a TCP connection that
// happens a few fields at a time during its first thousand segments, and each time the whole
// segment path is compiled again. Starting as a double (negative zero is one, and equals 0
// in every comparison and arithmetic the stack does) fixes the representation at once.
export const WIDE_ZERO = -0;
