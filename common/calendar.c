/* calendar.c - placeholder, being written. */
