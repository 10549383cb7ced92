"""Reading what people and the dataset give us: audio files and bytes (`audio`), the GTZAN folder (`gtzan`).

The lowest layer of mgc: it imports nothing of mgc but `mgc.errors`.
"""
