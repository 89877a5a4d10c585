print("wc")
