"""Training: data readers (Jester layout, video folders), synthetic gestures, train and eval."""
