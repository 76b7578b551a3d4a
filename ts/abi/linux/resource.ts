// getrusage(2)/times(2) ABI (include/uapi/linux/resource.h, times.h).

export const RUSAGE_SELF = 0;
export const RUSAGE_CHILDREN = -1;
export const RUSAGE_THREAD = 1;

/** struct rusage: two timevals then 14 longs. */
export const RUSAGE_SIZE = 144;
/** struct tms: four clock_t. */
export const TMS_SIZE = 32;
