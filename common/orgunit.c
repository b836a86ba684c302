/* orgunit.c - placeholder, being written. */
