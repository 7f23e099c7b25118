"""Artel Billiards: rule templates, matches of Американка, Московская and Колхоз, club queues.

Pure: ids, times, invite hashes and the order drawn by lot arrive as arguments.
"""
