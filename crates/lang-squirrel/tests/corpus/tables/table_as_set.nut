local seen = {}; foreach (w in ["a", "b", "a", "c", "b"]) seen[w] <- true; print(seen.len() + "\n");
