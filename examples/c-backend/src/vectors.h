#ifndef STOCHMEM_VECTORS_H
#define STOCHMEM_VECTORS_H

/* Check the JSON vectors in `folder`; 0 when every test of the implemented groups passes, 1 when one fails,
 * 2 when there are none to check. */
int check_vectors(const char *folder);

#endif
