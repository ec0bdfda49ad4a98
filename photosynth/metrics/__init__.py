"""Detection metrics (AP50 standard and legacy, bootstrap intervals) and domain-gap measures."""
