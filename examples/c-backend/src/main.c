/* stochmem-c: a C99 implementation of stochmem's randomness, streams and device clause groups.
 *
 *   stochmem-c                      speak the process protocol on stdin/stdout (stochmem conform --exec)
 *   stochmem-c --check-vectors DIR  compare with the JSON vectors in DIR, no protocol needed
 */
#include <stdio.h>
#include <string.h>

#include "protocol.h"
#include "vectors.h"

int main(int argc, char **argv)
{
    if (argc == 1)
        return serve(stdin, stdout);
    if (argc == 3 && strcmp(argv[1], "--check-vectors") == 0)
        return check_vectors(argv[2]);
    fprintf(stderr, "usage: %s              (the process protocol on stdin/stdout)\n"
                    "       %s --check-vectors DIR\n", argv[0], argv[0]);
    return 2;
}
