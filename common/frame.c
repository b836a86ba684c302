/* frame.c - placeholder, being written. */
