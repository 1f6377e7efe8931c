"""What a technician runs: hub discovery, enrolment, hardware detection and self-test."""
