"""Explanation: where a change is (attribution), why (causes), how sure (confidence), what to do."""
