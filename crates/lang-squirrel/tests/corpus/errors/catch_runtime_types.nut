try { local a = null; a.x(); } catch (e) { print(e + "\n"); } try { [].pop(); } catch (e) { print(e + "\n"); }
