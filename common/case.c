/* case.c - placeholder, being written. */
