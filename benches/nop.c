// Start-up benchmark: a static program that exits at once (after libc start-up).
int main(void) { return 0; }
