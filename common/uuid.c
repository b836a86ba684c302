/* uuid.c - placeholder, being written. */
