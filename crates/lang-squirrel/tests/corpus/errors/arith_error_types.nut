try { local x = [] * 2; } catch (e) { print(e + "\n"); } try { local y = null + 1; } catch (e) { print(e + "\n"); }
