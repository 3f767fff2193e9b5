"""The verdict every deployment test ends with. Standard library only."""


def finish(errors, notes):
    """Prints the notes (deduplicated, sorted), then each error as FAIL, or
    PASS when there are none; returns the test's exit status."""
    for note in sorted(set(notes)):
        print("NOTE: " + note)
    if errors:
        for message in errors:
            print("FAIL: " + message)
        return 1
    print("PASS")
    return 0
