/* One compiler invocation through the cache: classify, look up (direct
 * mode, then preprocessed), replay a hit or compile and store. Never
 * breaks a build: any cache trouble ends in running the real compiler. */
#ifndef CS_CLIENT_COMPILE_H
#define CS_CLIENT_COMPILE_H

/* argv[0] is the compiler (name or path), the rest its arguments. Returns
 * the exit status to exit with (or does not return: exec). */
int cs_compile_main(int argc, char **argv);

#endif
