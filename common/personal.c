/* personal.c - placeholder, being written. */
